"""Resync push: a SIP NOTIFY `Event: resync` tells a phone at once that its session ended.

sip.py builds and reads SIP messages and answers Digest (pure); client.py runs one NOTIFY
transaction over UDP; accounts.py picks the SIP accounts that can answer the phone's challenge;
service.py finds ended sessions and pushes to their phones.
"""
