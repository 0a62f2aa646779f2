package fcmfake

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// The structs below mirror the FCM HTTP v1 Send request as far as the fake checks or records
// it. Proto3 JSON accepts both the proto field name (collapse_key, which the Admin SDK sends)
// and its lowerCamel form (collapseKey), so both spellings are listed where the fake reads
// the value.

// sendRequest is the body of POST /v1/projects/{p}/messages:send. It is decoded strictly:
// an unknown top-level name is an error, as in FCM.
type sendRequest struct {
	ValidateOnly      bool            `json:"validate_only"`
	ValidateOnlyCamel bool            `json:"validateOnly"`
	Message           json.RawMessage `json:"message"`
}

// wireMessage is the Message resource, decoded strictly at its own level. The platform blocks
// stay raw here (FCM accepts many more fields in them than the fake cares about) and are
// decoded leniently into the types further down.
type wireMessage struct {
	Name            string            `json:"name"`
	Token           string            `json:"token"`
	Topic           string            `json:"topic"`
	Condition       string            `json:"condition"`
	Data            map[string]string `json:"data"`
	Notification    *wireNotification `json:"notification"`
	Android         json.RawMessage   `json:"android"`
	APNS            json.RawMessage   `json:"apns"`
	Webpush         json.RawMessage   `json:"webpush"`
	FCMOptions      json.RawMessage   `json:"fcm_options"`
	FCMOptionsCamel json.RawMessage   `json:"fcmOptions"`
}

// wireNotification is the cross-platform notification; FCM knows exactly these three fields.
type wireNotification struct {
	Title string `json:"title"`
	Body  string `json:"body"`
	Image string `json:"image"`
}

type wireAndroid struct {
	CollapseKey      string                   `json:"collapse_key"`
	CollapseKeyCamel string                   `json:"collapseKey"`
	Priority         string                   `json:"priority"`
	TTL              string                   `json:"ttl"`
	Data             map[string]string        `json:"data"`
	Notification     *wireAndroidNotification `json:"notification"`
}

type wireAndroidNotification struct {
	Tag            string `json:"tag"`
	ChannelID      string `json:"channel_id"`
	ChannelIDCamel string `json:"channelId"`
}

type wireAPNS struct {
	Headers map[string]string `json:"headers"`
	Payload *struct {
		Aps *wireAps `json:"aps"`
	} `json:"payload"`
}

// wireAps is the "aps" dictionary. alert and sound may each be a string or an object.
type wireAps struct {
	Alert          json.RawMessage `json:"alert"`
	Badge          *int            `json:"badge"`
	Sound          json.RawMessage `json:"sound"`
	ThreadID       string          `json:"thread-id"`
	MutableContent int             `json:"mutable-content"`
}

// maxPayloadBytes is FCM's documented limit on a message's payload.
const maxPayloadBytes = 4096

// parseSend decodes and validates a Send request body. On success it returns the
// validate_only flag and a Sent record with every field but the ones assigned when it is
// recorded (Index, Name, Time, Project). limit is the payload size limit, negative for none.
func parseSend(body []byte, limit int) (validateOnly bool, rec Sent, perr *payloadError) {
	var m wireMessage
	raw, validateOnly, ok := cutMessage(body)
	if !ok || decodeStrict(raw, &m) != nil {
		// Not the SDK's exact shape, or not valid: decode in two steps, which also finds
		// the right error to report.
		var req sendRequest
		if err := decodeStrict(body, &req); err != nil {
			return false, Sent{}, invalidJSON("", err.Error())
		}
		if isNull(req.Message) {
			return false, Sent{}, invalidMessage("message", "Request contains an invalid argument: message is required.")
		}
		raw, validateOnly, m = req.Message, req.ValidateOnly || req.ValidateOnlyCamel, wireMessage{}
		if err := decodeStrict(raw, &m); err != nil {
			return false, Sent{}, jsonError("message", err)
		}
	}
	rec = Sent{
		Token:     m.Token,
		Topic:     m.Topic,
		Condition: m.Condition,
		Data:      m.Data,
		Message:   json.RawMessage(raw),
	}
	if perr := checkTarget(&m); perr != nil {
		return false, Sent{}, perr
	}
	if perr := checkData("message.data", m.Data); perr != nil {
		return false, Sent{}, perr
	}
	size := dataSize(m.Data)
	if n := m.Notification; n != nil {
		rec.Title, rec.Body = n.Title, n.Body
		size += len(n.Title) + len(n.Body)
	}
	if perr := checkObject("message.webpush", m.Webpush); perr != nil {
		return false, Sent{}, perr
	}
	if perr := parseAndroid(m.Android, &rec); perr != nil {
		return false, Sent{}, perr
	}
	if perr := parseAPNS(m.APNS, &rec); perr != nil {
		return false, Sent{}, perr
	}
	if limit >= 0 && size > limit {
		return false, Sent{}, invalidMessage("message", fmt.Sprintf("Message is too big: payload of %d bytes exceeds %d bytes.", size, limit))
	}
	return validateOnly, rec, nil
}

// cutMessage slices the message object out of a body in the exact form the Admin SDK
// sends, {"message":{...}} or {"validate_only":true,"message":{...}}, so that the common
// case is decoded once and the message is not copied. The caller must still check that raw
// is one JSON object: strict decoding refuses the "},"name":... of any other shape.
func cutMessage(body []byte) (raw []byte, validateOnly bool, ok bool) {
	rest, ok := bytes.CutPrefix(body, []byte(`{"message":`))
	if !ok {
		rest, ok = bytes.CutPrefix(body, []byte(`{"validate_only":true,"message":`))
		validateOnly = true
	}
	if !ok {
		return nil, false, false
	}
	raw, ok = bytes.CutSuffix(rest, []byte("}"))
	return raw, validateOnly, ok && len(raw) > 0 && raw[0] == '{'
}

// checkTarget enforces FCM's target oneof: exactly one of token, topic and condition.
func checkTarget(m *wireMessage) *payloadError {
	n, second := 0, ""
	for _, t := range [...]struct{ name, value string }{{"token", m.Token}, {"topic", m.Topic}, {"condition", m.Condition}} {
		if t.value != "" {
			if n++; n == 2 {
				second = t.name
			}
		}
	}
	switch {
	case n == 0:
		return invalidMessage("message", "Recipient of the message is not set.")
	case n > 1:
		// A second member of a proto oneof is refused while the JSON is parsed.
		return invalidJSON("message", fmt.Sprintf("Oneof field 'target' is already set. Cannot set '%s'.", second))
	}
	if m.Topic != "" && !validTopic(m.Topic) {
		return invalidMessage("message.topic", fmt.Sprintf("Invalid topic name %q: use [a-zA-Z0-9-_.~%%]+ without the /topics/ prefix.", m.Topic))
	}
	return nil
}

// validTopic reports whether name matches FCM's topic pattern [a-zA-Z0-9-_.~%]+.
func validTopic(name string) bool {
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '-', c == '_', c == '.', c == '~', c == '%':
		default:
			return false
		}
	}
	return name != ""
}

// checkData refuses the data keys FCM reserves: "from", "message_type" and any key starting
// with "google" or "gcm".
func checkData(field string, data map[string]string) *payloadError {
	for k := range data {
		if k == "from" || k == "message_type" || strings.HasPrefix(k, "google") || strings.HasPrefix(k, "gcm") {
			return invalidMessage(field, fmt.Sprintf("Invalid data payload key: %s", k))
		}
	}
	return nil
}

func dataSize(data map[string]string) int {
	n := 0
	for k, v := range data {
		n += len(k) + len(v)
	}
	return n
}

func parseAndroid(raw json.RawMessage, rec *Sent) *payloadError {
	if isNull(raw) {
		return nil
	}
	if perr := checkObject("message.android", raw); perr != nil {
		return perr
	}
	var a wireAndroid
	if err := json.Unmarshal(raw, &a); err != nil {
		return jsonError("message.android", err)
	}
	switch strings.ToLower(a.Priority) {
	case "", "normal", "high":
	default:
		return invalidJSON("message.android.priority",
			fmt.Sprintf("Invalid value at 'message.android.priority' (type.googleapis.com/google.firebase.fcm.v1.AndroidMessagePriority), %q", a.Priority))
	}
	if a.TTL != "" && !validDuration(a.TTL) {
		return invalidJSON("message.android.ttl",
			fmt.Sprintf("Invalid value at 'message.android.ttl' (type.googleapis.com/google.protobuf.Duration), %q", a.TTL))
	}
	if perr := checkData("message.android.data", a.Data); perr != nil {
		return perr
	}
	rec.AndroidCollapseKey = firstNonEmpty(a.CollapseKey, a.CollapseKeyCamel)
	rec.AndroidPriority = a.Priority
	rec.AndroidTTL = a.TTL
	if n := a.Notification; n != nil {
		rec.AndroidTag = n.Tag
		rec.AndroidChannelID = firstNonEmpty(n.ChannelID, n.ChannelIDCamel)
	}
	return nil
}

func parseAPNS(raw json.RawMessage, rec *Sent) *payloadError {
	if isNull(raw) {
		return nil
	}
	if perr := checkObject("message.apns", raw); perr != nil {
		return perr
	}
	var a wireAPNS
	if err := json.Unmarshal(raw, &a); err != nil {
		// The payload is a free-form Struct to the API; a bad aps is refused by FCM itself.
		return &payloadError{field: "message.apns", message: "Invalid APNs payload: " + err.Error(), fcm: true}
	}
	for k, v := range a.Headers {
		if strings.EqualFold(k, "apns-collapse-id") {
			rec.APNSCollapseID = v
		}
	}
	if a.Payload == nil || a.Payload.Aps == nil {
		return nil
	}
	aps := a.Payload.Aps
	rec.APNSThreadID = aps.ThreadID
	rec.APNSBadge = aps.Badge
	rec.APNSMutableContent = aps.MutableContent == 1
	if len(aps.Sound) > 0 && aps.Sound[0] == '"' {
		_ = json.Unmarshal(aps.Sound, &rec.APNSSound) // a string already checked by Unmarshal above
	}
	return nil
}

// validDuration reports whether s is a non-negative protobuf Duration in JSON form: seconds
// with up to nine fractional digits and an "s" suffix, e.g. "3600s" or "1.5s".
func validDuration(s string) bool {
	s, ok := strings.CutSuffix(s, "s")
	if !ok {
		return false
	}
	whole, frac, hasFrac := strings.Cut(s, ".")
	if !allDigits(whole) || whole == "" {
		return false
	}
	return !hasFrac || (frac != "" && len(frac) <= 9 && allDigits(frac))
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// checkObject refuses a platform block that is present but not a JSON object.
func checkObject(field string, raw json.RawMessage) *payloadError {
	if isNull(raw) || raw[0] == '{' {
		return nil
	}
	return invalidJSON(field, fmt.Sprintf("Invalid value at '%s', expected an object.", field))
}

func isNull(raw json.RawMessage) bool {
	return len(raw) == 0 || bytes.Equal(raw, []byte("null"))
}

// decodeStrict decodes one JSON value, refusing unknown names and trailing data.
func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("unexpected data after the JSON value")
	}
	return nil
}

// jsonError turns a decoding error inside field into the front end's 400, naming the exact
// field and type when the error says which (a data value that is not a string, say).
func jsonError(field string, err error) *payloadError {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		at := field + "." + te.Field
		return invalidJSON(at, fmt.Sprintf("Invalid value at '%s' (%s), a JSON %s.", at, protoType(te.Type.Kind().String()), te.Value))
	}
	return invalidJSON(field, err.Error())
}

// protoType names a Go kind the way Google's errors name the expected proto type.
func protoType(kind string) string {
	switch kind {
	case "string":
		return "TYPE_STRING"
	case "bool":
		return "TYPE_BOOL"
	case "int", "int64":
		return "TYPE_INT64"
	default:
		return "TYPE_MESSAGE"
	}
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
