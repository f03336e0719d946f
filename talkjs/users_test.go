package talkjs

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"testing"
)

func TestUpsertUser(t *testing.T) {
	tests := []struct {
		name     string
		id       string
		update   UserUpdate
		wantPath string
		wantBody string
		wantErr  bool
	}{
		{
			name: "all fields", id: "alice",
			update: UserUpdate{Name: ptr("Alice"), Email: []string{"a@example.com"}, Phone: []string{"+1"},
				PhotoURL: ptr("https://x/a.png"), Role: ptr("buyer"), Locale: ptr("en-US"),
				WelcomeMessage: ptr("hi"), Custom: map[string]string{"country": "ca"}},
			wantPath: "/v1/app1/users/alice",
			wantBody: `{"name":"Alice","email":["a@example.com"],"phone":["+1"],"photoUrl":"https://x/a.png","role":"buyer","locale":"en-US","welcomeMessage":"hi","custom":{"country":"ca"}}`,
		},
		{name: "only what is set", id: "bob", update: UserUpdate{Role: ptr("")}, wantPath: "/v1/app1/users/bob", wantBody: `{"role":""}`},
		{name: "empty id", id: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, rec := okServer(t, "{}")
			err := newTestClient(t, srv).UpsertUser(t.Context(), tt.id, tt.update)
			if tt.wantErr {
				if !errors.Is(err, ErrInvalidRequest) || rec.count() != 0 {
					t.Errorf("err = %v after %d requests, want ErrInvalidRequest and none", err, rec.count())
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			r := rec.all()[0]
			if r.Method != "PUT" || r.Path != tt.wantPath || string(r.Body) != tt.wantBody {
				t.Errorf("got %s %s %s\nwant PUT %s %s", r.Method, r.Path, r.Body, tt.wantPath, tt.wantBody)
			}
		})
	}
}

func TestUpsertUsers(t *testing.T) {
	many := func(n int) map[string]UserUpdate {
		m := map[string]UserUpdate{}
		for i := range n {
			m[fmt.Sprint("u", i)] = UserUpdate{Name: ptr("x")}
		}
		return m
	}
	tests := []struct {
		name    string
		users   map[string]UserUpdate
		wantErr bool
	}{
		{name: "one", users: many(1)},
		{name: "100", users: many(100)},
		{name: "none", users: nil, wantErr: true},
		{name: "101", users: many(101), wantErr: true},
		{name: "empty id", users: map[string]UserUpdate{"": {}}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, rec := okServer(t, "{}")
			err := newTestClient(t, srv).UpsertUsers(t.Context(), tt.users)
			if tt.wantErr {
				if !errors.Is(err, ErrInvalidRequest) || rec.count() != 0 {
					t.Errorf("err = %v after %d requests, want ErrInvalidRequest and none", err, rec.count())
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			r := rec.all()[0]
			var got map[string]UserUpdate
			if err := json.Unmarshal(r.Body, &got); err != nil || r.Method != "PUT" || r.Path != "/v1/app1/users" || len(got) != len(tt.users) {
				t.Errorf("got %s %s with %d users (%v)", r.Method, r.Path, len(got), err)
			}
		})
	}
}

func TestGetUser(t *testing.T) {
	srv, rec := okServer(t, `{"id":"alice","name":"Alice","email":["a@x"],"phone":null,"photoUrl":null,
		"role":"buyer","custom":{"k":"v"},"locale":"de","welcomeMessage":null,"createdAt":1525249255419}`)
	u, err := newTestClient(t, srv).GetUser(t.Context(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	want := User{ID: "alice", Name: "Alice", Email: []string{"a@x"}, Role: "buyer", Custom: map[string]string{"k": "v"}, Locale: "de", CreatedAt: 1525249255419}
	if !reflect.DeepEqual(u, want) {
		t.Errorf("GetUser = %+v\nwant %+v", u, want)
	}
	if r := rec.all()[0]; r.Method != "GET" || r.Path != "/v1/app1/users/alice" {
		t.Errorf("request %s %s", r.Method, r.Path)
	}
}

func TestGetUserNotFound(t *testing.T) {
	srv, _ := statusServer(t, 404)
	_, err := newTestClient(t, srv).GetUser(t.Context(), "nobody")
	if !errors.Is(err, ErrNotFound) || Retryable(err) {
		t.Errorf("err = %v, want a permanent ErrNotFound", err)
	}
}
