/**
 * Values from users are echoed in messages cut short: a 200 KB config value must not become
 * a 200 KB error.
 *
 * @module
 */

/** How many characters of a user's value a message shows. */
export const SHOWN_CHARS = 200;

/** How long one line of a message may be before its middle is cut (a backstop). */
export const LINE_CHARS = 1000;

/** `text` itself, or its first `max` characters, an ellipsis and how long it was. */
export function clip(text: string, max = SHOWN_CHARS): string {
  if (text.length <= max) return text;
  return `${text.slice(0, max)}… (${text.length} characters)`;
}

/**
 * Every line longer than `max` loses its middle (head and tail stay, so the words after an
 * echoed value still read), so no message is ever huge whatever a call site echoed.
 */
export function clipLines(message: string, max = LINE_CHARS): string {
  if (message.length <= max && !message.includes("\n")) return message;
  return message.split("\n").map((line) => {
    if (line.length <= max) return line;
    const tail = Math.floor(max / 4);
    const head = max - tail;
    return `${line.slice(0, head)}…(${line.length - head - tail} characters cut)…${
      line.slice(line.length - tail)
    }`;
  }).join("\n");
}
