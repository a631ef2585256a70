import { migration001 } from './001-resources.js';
import { migration002 } from './002-auth-and-audit.js';
import { migration003 } from './003-composite-index.js';
import { migration004 } from './004-probe-indexes.js';
import { migration005 } from './005-index-only-search.js';
import { migration006 } from './006-dicom-index.js';
import { migration007 } from './007-federation.js';
import { migration008 } from './008-bulk-export.js';
import { migration009 } from './009-document-signing.js';
import { migration010 } from './010-prescription-signing-keys.js';
import { migration011 } from './011-patient-keyed-tokens.js';
import { migration012 } from './012-one-key-index.js';
import { migration013 } from './013-walkable-seq-index.js';

export interface Migration {
  version: number;
  name: string;
  /** DDL without function bodies, split on `;` at line ends ... */
  sql?: string;
  /** ... or the statements one by one (needed for plpgsql bodies). */
  statements?: string[];
}

/** In order. Append new migrations; never edit one that has shipped. */
export const migrations: Migration[] = [migration001, migration002, migration003, migration004, migration005, migration006, migration007, migration008, migration009, migration010, migration011, migration012, migration013];
