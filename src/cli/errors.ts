/** A problem the user can fix (bad option, unreadable file, invalid rules): printed without a stack, exit status 2. */
export class UserError extends Error {}
