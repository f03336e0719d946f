package verify

import (
	"bytes"
	"testing"
)

func BenchmarkVerify(b *testing.B) {
	body := bytes.Repeat([]byte(`{"k":"v"},`), 1024) // 10 KiB
	for _, name := range []string{PresetGitHub, PresetStripe, PresetStandardWebhooks, PresetBearer, PresetTwilio, PresetTwitch} {
		b.Run(name+"/10KiB", func(b *testing.B) {
			p := presets[name]
			v := newVerifier(b, p, currentKey)
			r := p.request(p.sign(currentKey, body, testNow), body)
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if err := v.VerifyRequest(r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("github/10KiB/rotation-3-secrets-mismatch", func(b *testing.B) {
		p := presets[PresetGitHub]
		v := newVerifier(b, p, oldKey, otherKey, currentKey)
		h := p.sign([]byte("nobody"), body, testNow)
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			_ = v.Verify(h, body)
		}
	})
}
