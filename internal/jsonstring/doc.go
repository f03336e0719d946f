// Package jsonstring writes and reads JSON strings exactly as encoding/json
// does, for the per-invocation paths that skip encoding/json's reflection:
// the webhook's send command and answers and the EMF metrics line are
// written with [AppendString]; the API Gateway event and the webhook body
// are read with [Read]. Its tests and fuzz targets compare both with
// encoding/json.
package jsonstring
