package fcmfake

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"firebase.google.com/go/v4/messaging"
)

// discardWriter is a ResponseWriter that keeps nothing, so the benchmark measures the fake.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(int)             {}

// BenchmarkHandleSend measures the fake's own cost per Send, without the network, from
// parallel senders as the SDK's workers are.
func BenchmarkHandleSend(b *testing.B) {
	s := New(Config{})
	h := s.Handler()
	body := []byte(`{"message":{"android":{"collapse_key":"c1","priority":"high","ttl":"3600s","notification":{"tag":"c1","channel_id":"messages"}},` +
		`"apns":{"headers":{"apns-priority":"10","apns-collapse-id":"c1"},"payload":{"aps":{"mutable-content":1,"sound":"default","thread-id":"c1","badge":1}}},` +
		`"data":{"chatId":"c1","msgId":"m42"},"notification":{"body":"hi there","title":"Alice"},"token":"ok-device-1"}}`)
	var n atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		w := &discardWriter{h: make(http.Header)}
		for pb.Next() {
			if n.Add(1)%10000 == 0 {
				s.ClearSent() // keep the log from growing with b.N
			}
			r := httptest.NewRequest(http.MethodPost, sendPath, bytes.NewReader(body))
			h.ServeHTTP(w, r)
		}
	})
}

// BenchmarkMulticast sends 500 tokens through the real SDK and HTTP, as Hearth's fan-out
// does for each batch.
func BenchmarkMulticast(b *testing.B) {
	s := New(Config{})
	if err := s.Start(b.Context(), "127.0.0.1:0"); err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	client, err := NewMessagingClient(b.Context(), s.Addr(), testProject)
	if err != nil {
		b.Fatal(err)
	}
	tokens := make([]string, 500)
	for i := range tokens {
		tokens[i] = fmt.Sprintf("tok-%03d", i)
	}
	msg := &messaging.MulticastMessage{Tokens: tokens, Notification: &messaging.Notification{Title: "t", Body: "b"}}
	for b.Loop() {
		br, err := client.SendEachForMulticast(b.Context(), msg)
		if err != nil || br.FailureCount != 0 {
			b.Fatalf("SendEachForMulticast() = %v, %d failures", err, br.FailureCount)
		}
		s.ClearSent()
	}
}
