// Stands in for archiver, unzipper, tmp and fast-csv in handler bundles: see README.md beside this file.
module.exports = new Proxy(function unavailable() {
  throw new Error('not bundled: the report handler writes workbooks with writeBuffer() and reads them with load() only');
}, { get: (target, prop) => (prop === '__esModule' ? false : target) });
