/** tnetstring floats that stay floats: shared by the decoder and the encoder. */
/** A float that must be written as `^` even if its value is integral (`1.0`). */
export class TnetFloat {
  constructor(readonly value: number) {}
}
