// Stands in for archiver, unzipper, tmp and fast-csv in handler bundles: see README.md beside this file.
function unavailable() {
  throw new Error('not bundled: the report code writes workbooks with writeBuffer() and reads them with load() only');
}
// exceljs's streaming reader calls tmp.setGracefulCleanup() when it is loaded; everything else fails when called.
module.exports = new Proxy(unavailable, {
  get: (target, prop) => (prop === 'setGracefulCleanup' ? () => undefined : prop === '__esModule' ? false : target),
});
