package push

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"firebase.google.com/go/v4/errorutils"
	"firebase.google.com/go/v4/messaging"
)

// Failure reasons of one message to one device. They label hearth_push_failed_total
// and hearth_push_retries_total.
const (
	FailUnregistered     = "unregistered"       // 404 UNREGISTERED: app uninstalled, token dead
	FailInvalidToken     = "invalid_token"      // 400 INVALID_ARGUMENT about message.token
	FailInvalidArgument  = "invalid_argument"   // 400 about the payload: a bug, not retried
	FailSenderIDMismatch = "sender_id_mismatch" // 403: token of another project
	FailThirdPartyAuth   = "third_party_auth"   // 401: APNs/web push credentials
	FailQuotaExceeded    = "quota_exceeded"     // 429
	FailUnavailable      = "unavailable"        // 503 (the SDK already retried it)
	FailInternal         = "internal"           // 500 and other 5xx
	FailTransport        = "transport"          // no HTTP answer
	FailOther            = "other"              // anything else, not retried
	FailGaveUp           = "gave_up"            // a queue entry failed MaxAttempts times
)

// action is what to do about a failed message.
type action int

const (
	actDrop  action = iota // permanent: count it, do not retry
	actPrune               // the token is dead: delete the device
	actRetry               // transient: retry with backoff
)

// failure is a classified send error.
type failure struct {
	reason     string
	action     action
	retryAfter time.Duration // the server's Retry-After, 0 if none
}

// classify sorts an FCM send error by the messaging and errorutils helpers (never by its
// text): UNREGISTERED and token-related INVALID_ARGUMENT prune the device, 429 and 5xx
// (and transport errors) are retried honouring Retry-After, everything else is dropped.
func classify(err error, now time.Time) failure {
	resp := errorutils.HTTPResponse(err)
	status := 0
	if resp != nil {
		status = resp.StatusCode
	}
	f := failure{reason: FailOther, action: actDrop}
	switch {
	case messaging.IsUnregistered(err):
		f = failure{reason: FailUnregistered, action: actPrune}
	case messaging.IsInvalidArgument(err) || errorutils.IsInvalidArgument(err):
		f = failure{reason: FailInvalidArgument, action: actDrop}
		if tokenViolation(resp) {
			f = failure{reason: FailInvalidToken, action: actPrune}
		}
	case messaging.IsSenderIDMismatch(err):
		f.reason = FailSenderIDMismatch
	case messaging.IsThirdPartyAuthError(err):
		f.reason = FailThirdPartyAuth
	case messaging.IsQuotaExceeded(err) || status == http.StatusTooManyRequests:
		f = failure{reason: FailQuotaExceeded, action: actRetry}
	case messaging.IsUnavailable(err) || status == http.StatusServiceUnavailable:
		f = failure{reason: FailUnavailable, action: actRetry}
	case messaging.IsInternal(err) || status >= 500:
		f = failure{reason: FailInternal, action: actRetry}
	case resp == nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded):
		f = failure{reason: FailTransport, action: actRetry}
	}
	if f.action == actRetry && resp != nil {
		f.retryAfter = retryAfter(resp.Header.Get("Retry-After"), now)
	}
	return f
}

// tokenViolation reports whether a 400 answer is about the registration token: its
// google.rpc.BadRequest detail names the field message.token. FCM also uses
// INVALID_ARGUMENT for bad payloads, which must not delete a device. When the answer has
// no field violation at all, the FCM message text for a bad token is the only hint FCM
// gives; this reads the wire protocol's error.message, not a Go error.
func tokenViolation(resp *http.Response) bool {
	if resp == nil || resp.Body == nil {
		return false
	}
	raw, err := io.ReadAll(resp.Body)
	// The SDK hands out the same response on every HTTPResponse call: put the body back.
	resp.Body = io.NopCloser(bytes.NewReader(raw))
	if err != nil {
		return false
	}
	var body struct {
		Error struct {
			Message string `json:"message"`
			Details []struct {
				Type            string `json:"@type"`
				FieldViolations []struct {
					Field string `json:"field"`
				} `json:"fieldViolations"`
			} `json:"details"`
		} `json:"error"`
	}
	if json.Unmarshal(raw, &body) != nil {
		return false
	}
	violations := 0
	for _, d := range body.Error.Details {
		for _, v := range d.FieldViolations {
			violations++
			if v.Field == "message.token" {
				return true
			}
		}
	}
	return violations == 0 && strings.Contains(body.Error.Message, "registration token")
}

// retryAfter parses a Retry-After header: delay seconds or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		return time.Duration(min(secs, int64(24*time.Hour/time.Second))) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
