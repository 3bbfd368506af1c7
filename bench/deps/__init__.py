"""What each virtualenv installs: the app's and the worker type's requirements resolved together into a lock,
and their wheels fetched on the controller for hosts that have no index."""
