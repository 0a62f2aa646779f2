package model

import (
	"errors"
	"fmt"
	"slices"
	"testing"
)

func TestValidationErrorIsErrorsAsable(t *testing.T) {
	err := fmt.Errorf("create user u1: %w", ValidateUser("u1", User{}))

	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("errors.As(%v, *ValidationError) = false, want true", err)
	}
	if len(ve.Fields) != 1 || ve.Fields[0].Field != "displayName" {
		t.Errorf("ValidateUser(empty).Fields = %v, want [displayName]", ve.Fields)
	}
	var fe FieldError
	if !errors.As(err, &fe) || fe.Field != "displayName" {
		t.Errorf("errors.As(%v, FieldError) = %v, want displayName", err, fe)
	}
	if ve.Error() == "" || fe.Error() == "" {
		t.Errorf("Error() = %q, %q, want text", ve.Error(), fe.Error())
	}
}

func TestValidatorsReturnUntypedNil(t *testing.T) {
	// A typed nil *ValidationError inside an error would make err != nil
	// true for a valid document.
	if err := ValidateUser("u1", User{DisplayName: "Ann"}); err != nil {
		t.Errorf("ValidateUser(valid) = %#v, want untyped nil", err)
	}
}

func TestValidationErrorListsEveryField(t *testing.T) {
	err := ValidateMessage("r_1", "m/1", Message{SenderID: "", Type: "sticker"})
	got := fieldsOf(err)
	for _, want := range []string{"roomId", "messageId", "senderId", "type"} {
		if !wantFields(err, want) {
			t.Errorf("ValidateMessage(bad).Fields = %v, want %s among them", got, want)
		}
	}
}

func TestJoinValidation(t *testing.T) {
	if err := JoinValidation(nil, ValidateID("uid", "u1"), nil); err != nil {
		t.Errorf("JoinValidation(valid) = %#v, want untyped nil", err)
	}
	err := JoinValidation(ValidateID("uid", "a/b"), nil, ValidateReport("nope", ""), ValidateID("userId", ""))
	if got := fieldsOf(err); !slices.Equal(got, []string{"uid", "reason", "userId"}) {
		t.Errorf("JoinValidation(three invalid) fields = %q, want uid, reason, userId in order", got)
	}
	other := errors.New("not a validation")
	if err := JoinValidation(ValidateID("uid", "a/b"), other); err != other {
		t.Errorf("JoinValidation(with another error) = %v, want that error", err)
	}
}
