package inbox

import (
	"time"

	"github.com/hearth-chat/hearth/internal/coalesce"
)

// Option configures a Store.
type Option func(*Store)

// LargeRooms turns on the large-room mode of the message fan-out: a fan-out reaching at
// least members entries waits until the room has been quiet for window (no further
// fan-out of the room arrived) before it starts, but never longer than
// largeRoomMaxWaits windows after the first one — and every fan-out of the room that
// arrives meanwhile joins it (a coalesce.Debounced group on the Store's clock). A burst
// of messages thus writes each member's entry once (once per largeRoomMaxWaits windows
// for a stream that never pauses), not once per message, at the price of at least
// window in latency, at most largeRoomMaxWaits windows. Smaller rooms fan out at once.
// The mode follows the room's size at each message, so a room switches in both
// directions as members join and leave. members <= 0 or window <= 0 leaves the mode off.
func LargeRooms(members int, window time.Duration) Option {
	return func(s *Store) {
		if members > 0 && window > 0 {
			s.largeMembers = members
			s.large = coalesce.NewDebounced[fanOutBatch, struct{}](mergeFanOuts, window, largeRoomMaxWaits*window, s.clock)
		}
	}
}

// largeRoomMaxWaits bounds the gathering of a large room's fan-out: at most this many
// windows after its first message, however busy the room.
const largeRoomMaxWaits = 4

// largeRoomRunTimeout bounds a gathered large-room run: it serves every caller that
// joined, detached from their contexts.
const largeRoomRunTimeout = time.Minute
