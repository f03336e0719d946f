package talkjs

import (
	"errors"
	"testing"
)

func TestStaticKey(t *testing.T) {
	tests := []struct {
		name    string
		key     string
		wantErr error
	}{
		{name: "key", key: "sk_test_1"},
		{name: "empty key fails closed", key: "", wantErr: errEmptyStaticKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := StaticKey(tt.key)
			src.Refused(t.Context(), tt.key) // nothing to refresh: must not change the answer
			got, err := src.Key(t.Context())
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && got != tt.key) {
				t.Errorf("Key = %q, %v; want %q, %v", got, err, tt.key, tt.wantErr)
			}
			if tt.wantErr != nil && Retryable(err) {
				t.Errorf("empty key reported retryable")
			}
		})
	}
}

func TestIsSecretKey(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{"test key", "sk_test_AbC123", true},
		{"live key", "sk_live_AbC123", true},
		{"prefix only", "sk_test_", false},
		{"other sk_ prefix", "sk_x_AbC123", false},
		{"publishable-looking", "pk_test_AbC123", false},
		{"empty", "", false},
		{"space inside", "sk_test_Ab C", false},
		{"quote inside", `sk_test_Ab"C`, false},
		{"newline at the end", "sk_test_AbC\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsSecretKey(tt.in); got != tt.want {
				t.Errorf("IsSecretKey(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}
