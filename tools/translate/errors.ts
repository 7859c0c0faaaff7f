/**
 * Errors the translator raises before anything runs. `UnsupportedError` is the "refused before
 * boot" case of the CLI (exit status 3): the module uses an operator, import or feature that the
 * translator does not implement, and the message names it.
 */

export class UnsupportedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UnsupportedError";
  }
}

/** A module that links but cannot be instantiated (e.g. a data segment out of bounds). */
export class LinkError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "LinkError";
  }
}
