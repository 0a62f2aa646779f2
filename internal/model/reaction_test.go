package model

import (
	"slices"
	"testing"
)

func TestReactionSet(t *testing.T) {
	tests := []struct {
		name string
		in   []string
		want []string
	}{
		{"none", nil, nil},
		{"one", []string{"👍"}, []string{"👍"}},
		{"sorted", []string{"🔥", "👍"}, []string{"👍", "🔥"}},
		{"duplicates count once", []string{"👍", "👍"}, []string{"👍"}},
		{"not allowed", []string{"🍕", "👍🏽", "❤", "👍🔥", ""}, nil},
		{"at most MaxReactionsPerUser, the first ones", []string{"😂", "🍕", "😂", "🎉", "🙏", "🔥"}, []string{"🎉", "😂", "🙏"}},
	}
	for _, tt := range tests {
		if got := ReactionSet(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("ReactionSet(%s: %q) = %q, want %q", tt.name, tt.in, got, tt.want)
		}
	}
}

func TestReactionEmojiAreDistinctAndShort(t *testing.T) {
	seen := map[string]bool{}
	for _, e := range ReactionEmoji() {
		if seen[e] || e == "" || len([]rune(e)) > 2 {
			t.Errorf("ReactionEmoji has %q: want distinct emoji of one or two code points", e)
		}
		seen[e] = true
	}
	if MaxReactionsPerUser < 1 || MaxReactionsPerUser > len(seen) {
		t.Errorf("MaxReactionsPerUser = %d, want 1..%d", MaxReactionsPerUser, len(seen))
	}
}

func TestThreadPaths(t *testing.T) {
	if got := ThreadMutePath("u1", "r1", "m_1"); got != "users/u1/threadMutes/r1_m_1" {
		t.Errorf("ThreadMutePath = %q", got)
	}
	if got := ReactionPath("r1", "m1", "u1"); got != "rooms/r1/messages/m1/reactions/u1" {
		t.Errorf("ReactionPath = %q", got)
	}
}
