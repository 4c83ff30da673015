// GraphQL Code Generator: typed documents for the operations the tests (and any client) use,
// and for the web console's (as strings: the console sends them without graphql-js).
import type { CodegenConfig } from '@graphql-codegen/cli';

const scalars = { DateTime: 'string', SafeInt: 'number' };

const config: CodegenConfig = {
  schema: 'schema.graphql',
  generates: {
    'test/generated/': {
      documents: ['test/operations/**/*.graphql'],
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: { useTypeImports: true, enumsAsTypes: true, scalars },
    },
    'web/src/generated/': {
      documents: ['web/src/graphql/**/*.graphql'],
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: { useTypeImports: true, enumsAsTypes: true, scalars, documentMode: 'string' },
    },
  },
  ignoreNoDocuments: false,
  emitLegacyCommonJSImports: false,
  silent: true,
};

export default config;
