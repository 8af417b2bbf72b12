"""What two or more catalog-sync services agree on: settings, names, the change-event schema."""
