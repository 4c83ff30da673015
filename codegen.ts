// GraphQL Code Generator: typed documents for the operations the tests (and any client) use.
import type { CodegenConfig } from '@graphql-codegen/cli';

const config: CodegenConfig = {
  schema: 'schema.graphql',
  documents: ['test/operations/**/*.graphql'],
  generates: {
    'test/generated/': {
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: { useTypeImports: true, enumsAsTypes: true, scalars: { DateTime: 'string', SafeInt: 'number' } },
    },
  },
  ignoreNoDocuments: false,
  emitLegacyCommonJSImports: false,
  silent: true,
};

export default config;
