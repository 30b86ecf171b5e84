"""Following feeds: the feed store, polling, item delivery, alerts, ``/digest follow`` & co."""
