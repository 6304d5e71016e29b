/**
 * @module errors
 * The generator's one error type for bad arguments (unknown arch or size, bad dimensions,
 * unwritable output). The CLI prints its message on one line and exits non-zero.
 */
export class ModelGenError extends Error {
  override name = 'ModelGenError';
}
