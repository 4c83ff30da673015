// Layout is Prettier's to decide; these match how the code was already written.
export default {
  printWidth: 140,
  singleQuote: true,
  trailingComma: 'all',
};
