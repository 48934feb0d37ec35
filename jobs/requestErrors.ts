/**
 * A request that cannot be served as asked, whose message says what to change: the API answers 400 with it and the
 * CLI exits 2. (Arguments that do not fit a job's schema are InvalidArgumentsError, an unknown job UnknownJobError.)
 */
export class InvalidRequestError extends Error {
  override name = 'InvalidRequest';
}
