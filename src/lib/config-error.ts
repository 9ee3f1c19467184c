/**
 * A configuration value that cannot be used, named by its variable. Raised while reading the
 * environment and by adapters that find a configured value refused (a Slack token, a TLS file);
 * the CLI prints it as one line and exits 2.
 */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    readonly problem: string,
  ) {
    super(`${variable} ${problem}`);
    this.name = 'ConfigError';
  }
}
