"""The portal: the web app reps and marketers use (Flask, server-rendered, no CDN).

It signs users in (local accounts in Elasticsearch, or an SSO proxy's identity
header), and calls the content, usage and feedback services over gRPC with a bearer
token minted per request for the signed-in user. Customers reach only `/s/<token>`,
the tracked share-link viewer, without signing in.
"""
