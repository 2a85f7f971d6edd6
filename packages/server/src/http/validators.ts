import { Ajv, type AnySchema } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';

// ajv-formats ships CommonJS; under NodeNext its default export is the module object.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

function makeAjv(coerceTypes: boolean | 'array'): Ajv {
  const ajv = new Ajv({ coerceTypes, removeAdditional: false, useDefaults: true, allErrors: false, strict: false });
  addFormats(ajv);
  return ajv;
}

/*
 * Query strings and path parameters arrive as text, so `?limit=20` must become 20. JSON
 * bodies arrive typed, so `{ "title": 42 }` must be rejected, not silently coerced to "42".
 */
const coercing = makeAjv('array');
const strict = makeAjv(false);

/**
 * Fastify validator compiler: strict for bodies, coercing for everything else.
 *
 * @example
 * app.setValidatorCompiler(validatorCompiler);
 */
export const validatorCompiler: FastifySchemaCompiler<AnySchema> = ({ schema, httpPart }) => {
  const ajv = httpPart === 'body' ? strict : coercing;
  return ajv.compile(schema) as ReturnType<FastifySchemaCompiler<AnySchema>>;
};
