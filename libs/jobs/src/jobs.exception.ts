import { CodedError, ErrorKind } from '#polystore/platform';

export const JobsErrorCode = {
  UNKNOWN_JOB: 'UNKNOWN_JOB',
} as const;

export class JobsException extends CodedError {
  static unknownJob(name: string, known: readonly string[]): JobsException {
    return new JobsException(
      JobsErrorCode.UNKNOWN_JOB,
      ErrorKind.INVALID_ARGUMENT,
      `unknown job "${name}" (known: ${known.join(', ')})`,
    );
  }
}
