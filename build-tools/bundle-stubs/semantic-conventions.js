// Stands in for @opentelemetry/semantic-conventions in handler bundles: see README.md beside this file.
module.exports = {};
