// A small argument parser: `suhe <command> [--flag value | --switch] [positional...]`.
export interface ParsedArgs {
  command: string;
  flags: Map<string, string | true>;
  positional: string[];
}

const SWITCHES = new Set(['demo', 'help', 'quiet', 'all', 'no-bulk']);

export function parseArgs(argv: string[]): ParsedArgs {
  const [command = 'help', ...rest] = argv;
  const flags = new Map<string, string | true>();
  const positional: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    const [name, inline] = arg.slice(2).split(/=(.*)/s, 2);
    if (SWITCHES.has(name)) flags.set(name, true);
    else if (inline !== undefined) flags.set(name, inline);
    else if (i + 1 < rest.length) flags.set(name, rest[++i]);
    else throw new Error(`--${name} needs a value`);
  }
  return { command, flags, positional };
}
