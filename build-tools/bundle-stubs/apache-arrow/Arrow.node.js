// Stands in for apache-arrow in handler bundles: see ../README.md.
module.exports = {};
