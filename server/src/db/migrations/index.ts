import { migration001 } from './001-resources.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** In order. Append new migrations; never edit one that has shipped. */
export const migrations: Migration[] = [migration001];
