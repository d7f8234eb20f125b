"""JavaScript extensions run by Hub (custom data transformations, payload transformations, person
reconciliation, state transitions), key-value stores, and the runtime and host APIs they use."""
