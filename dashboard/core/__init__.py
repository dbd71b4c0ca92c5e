"""Config, calendar, rules, storage, keys, formats: what every other layer builds on."""
