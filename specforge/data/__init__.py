"""Dataset readers: load the data sets a spec names from files the user already has."""
