// Stands in for undici in handler bundles: see README.md beside this file.
module.exports = {};
