// A mutation's result is its payload or a typed error (`... on Error { message }`): the console
// shows the error's message beside the field it names, or beside the action.

export interface TypedError {
  type: string;
  message: string;
  /** ValidationError's input field. */
  field: string | null;
}

export function typedErrorOf(result: { __typename: string }): TypedError | null {
  if (!('message' in result) || typeof result.message !== 'string') return null;
  const field = 'field' in result && typeof result.field === 'string' ? result.field : null;
  return { type: result.__typename, message: result.message, field };
}

/** The message to show under `field`: a ValidationError naming it, or an error of one of `types`. */
export function messageFor(error: TypedError | null, field: string, types: string[] = []): string | null {
  if (!error) return null;
  return error.field === field || types.includes(error.type) ? error.message : null;
}

/** The message to show beside the action: any error not shown under one of `shownAtFields`. */
export function messageBesides(error: TypedError | null, shownAtFields: (string | null)[]): string | null {
  if (!error) return null;
  return shownAtFields.some((message) => message !== null) ? null : error.message;
}

/** A thrown RequestError (a refusal, the server unreachable) shown the same way, beside the action. */
export function thrownError(error: unknown): TypedError {
  return { type: 'RequestError', message: error instanceof Error ? error.message : String(error), field: null };
}
