"""Speed measurements that print ratios measured side by side (`make bench`)."""
