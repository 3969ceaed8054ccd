#!/usr/bin/env python3
"""make_favicon.py OUT — writes parley's favicon (www/favicon.ico): a speech
bubble in the client's accent colour, drawn at 16, 32 and 48 px (4x4
supersampled) and stored as PNG images inside one ICO file (the ICO format
allows PNG entries since Windows Vista; every current browser reads them).
Standard library only, so `make` needs nothing new; the output is
committed, this script is how to make it again."""

import struct
import sys
import zlib

ACCENT = (0x2F, 0x6F, 0xDE)
WHITE = (0xFF, 0xFF, 0xFF)


def inside_round_rect(x, y, x0, y0, x1, y1, r):
    cx = min(max(x, x0 + r), x1 - r)
    cy = min(max(y, y0 + r), y1 - r)
    return (x - cx) ** 2 + (y - cy) ** 2 <= r * r and x0 <= x <= x1 and y0 <= y <= y1


def inside_tail(x, y):
    # a triangle under the bubble's lower left: (0.28,0.70) (0.48,0.70) (0.24,0.90)
    ax, ay, bx, by, cx, cy = 0.28, 0.70, 0.48, 0.70, 0.24, 0.90
    d = (by - cy) * (ax - cx) + (cx - bx) * (ay - cy)
    l1 = ((by - cy) * (x - cx) + (cx - bx) * (y - cy)) / d
    l2 = ((cy - ay) * (x - cx) + (ax - cx) * (y - cy)) / d
    return l1 >= 0 and l2 >= 0 and 1 - l1 - l2 >= 0


def colour(x, y):
    """RGBA of the point (x, y) in [0,1]^2, or None when transparent."""
    if not inside_round_rect(x, y, 0.0, 0.0, 1.0, 1.0, 0.22):
        return None
    bubble = inside_round_rect(x, y, 0.16, 0.20, 0.84, 0.72, 0.14) or inside_tail(x, y)
    if bubble:
        for dx in (0.34, 0.50, 0.66):                 # three dots: typing
            if (x - dx) ** 2 + (y - 0.46) ** 2 <= 0.055 ** 2:
                return ACCENT
        return WHITE
    return ACCENT


def png(size):
    ss = 4
    rows = []
    for py in range(size):
        row = bytearray([0])                          # filter: none
        for px in range(size):
            acc = [0, 0, 0, 0]
            for sy in range(ss):
                for sx in range(ss):
                    c = colour((px + (sx + 0.5) / ss) / size, (py + (sy + 0.5) / ss) / size)
                    if c:
                        acc[0] += c[0]
                        acc[1] += c[1]
                        acc[2] += c[2]
                        acc[3] += 255
            n = ss * ss
            covered = acc[3] // 255
            if covered:
                row += bytes([acc[0] // covered, acc[1] // covered, acc[2] // covered, acc[3] // n])
            else:
                row += bytes(4)
        rows.append(bytes(row))

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    ihdr = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(b"".join(rows), 9)) + chunk(b"IEND", b""))


def ico(sizes):
    images = [png(s) for s in sizes]
    out = struct.pack("<HHH", 0, 1, len(images))
    offset = 6 + 16 * len(images)
    for s, data in zip(sizes, images):
        out += struct.pack("<BBBBHHII", s % 256, s % 256, 0, 0, 1, 32, len(data), offset)
        offset += len(data)
    return out + b"".join(images)


if __name__ == "__main__":
    with open(sys.argv[1], "wb") as f:
        f.write(ico([16, 32, 48]))
