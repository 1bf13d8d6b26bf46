import type pc from 'picocolors';

/** A colour palette; identity functions when colour is off (made by src/cli/colors.ts). */
export type Colors = ReturnType<typeof pc.createColors>;
