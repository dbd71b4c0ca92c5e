"""Who sees what: viewers and roles, sign-in, data scopes, the one privacy exit."""
