import pc from 'picocolors';

/** A colour palette; identity functions when colour is off. */
export type Colors = ReturnType<typeof pc.createColors>;

/**
 * Colour only for a person at a terminal: off under NO_COLOR, when the stream
 * is not a TTY, or when asked (`--no-color`). Never in files or JSON.
 */
export function colorsFor(stream: NodeJS.WriteStream, forceOff = false): Colors {
  const enabled =
    !forceOff &&
    stream.isTTY === true &&
    (process.env['NO_COLOR'] === undefined || process.env['NO_COLOR'] === '') &&
    process.env['TERM'] !== 'dumb';
  return pc.createColors(enabled);
}
