package secretsource_test

import (
	"testing"
	"time"

	"github.com/talkjs-bridge/talkjs-bridge/internal/secretsource"
)

// BenchmarkKeyWarm is what every TalkJS request pays for its key once the
// cache is warm: no I/O, one short lock.
func BenchmarkKeyWarm(b *testing.B) {
	f := newFixture(b, secretsource.Options{TTL: time.Hour})
	ctx := b.Context()
	if _, err := f.src.Key(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := f.src.Key(ctx); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
