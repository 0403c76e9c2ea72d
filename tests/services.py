"""Fixtures that start real services on 127.0.0.1: PostgreSQL, OpenSSH sshd (SFTP), moto S3 server."""
