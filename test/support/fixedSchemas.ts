import { UnknownSchemaIdError, type RegisteredSchema } from '../../connections/schemaRegistry';
import type { WriterSchemaSource } from '../../consumers/confluentDecoders';

/**
 * Writer schemas by id without a registry, for pure unit tests of decoding: it records every id it is asked for, and
 * `down` makes it answer as an unreachable registry does.
 */
export class FixedSchemas implements WriterSchemaSource {
  readonly url = 'http://registry.test/apis/ccompat/v7';
  readonly asked: number[] = [];
  down: Error | undefined;

  constructor(private readonly schemas: Record<number, string | RegisteredSchema>) {}

  async schemaById(id: number): Promise<RegisteredSchema> {
    this.asked.push(id);
    if (this.down) throw this.down;
    const s = this.schemas[id];
    if (s === undefined) throw new UnknownSchemaIdError(id, this.url);
    return typeof s === 'string' ? { id, schemaType: 'AVRO', schema: s } : s;
  }
}
