// Package jsonwrite appends JSON strings exactly as encoding/json writes
// them, for the per-invocation lines of fixed shape (the webhook's send
// command and answers, the EMF metrics line) that are written without
// encoding/json's reflection. Its tests compare it with encoding/json.
package jsonwrite
