"""The rep's actions from email: signed links, the confirm page, consuming a link once."""
