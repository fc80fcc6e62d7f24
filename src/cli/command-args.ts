/**
 * A subcommand's command line: options that take a value (`--x v` or `--x=v`), flags, and positional words. The
 * subcommands differ only in which options they know and how they word a mistake, so both are given.
 */
export interface CommandArgs {
  readonly positional: string[];
  readonly options: Map<string, string>;
  readonly flags: Set<string>;
}

export interface CommandSyntax {
  readonly valueOptions: ReadonlySet<string>;
  readonly flags: ReadonlySet<string>;
  /** Whether words that are not options are accepted (else each is a mistake). */
  readonly positional: boolean;
  /** Whether giving an option twice is a mistake (else the last one counts). */
  readonly refuseRepeats?: boolean;
  /** The error to throw, with the mistake's description. */
  readonly mistake: (message: string) => Error;
}

export function parseCommandArgs(argv: readonly string[], syntax: CommandSyntax): CommandArgs {
  const args: CommandArgs = { positional: [], options: new Map(), flags: new Set() };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    if (syntax.valueOptions.has(name)) {
      const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
      if (value === undefined) throw syntax.mistake(`${name} needs a value`);
      if (syntax.refuseRepeats && args.options.has(name)) throw syntax.mistake(`${name} is given twice`);
      args.options.set(name, value);
    } else if (syntax.flags.has(name)) {
      args.flags.add(name);
    } else if (arg.startsWith('-')) {
      throw syntax.mistake(`unknown option ${arg}`);
    } else if (syntax.positional) {
      args.positional.push(arg);
    } else {
      throw syntax.mistake(`unexpected argument "${arg}"`);
    }
  }
  return args;
}
