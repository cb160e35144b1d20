#!/usr/bin/env python3
"""An event-file reader independent of Kiln's writer, for TensorBoardTest: checks every TFRecord's length and data
CRCs (masked CRC32C, computed here bit by bit), decodes the protocol buffers from their wire format (no protobuf
package needed) and prints one JSON line per event: {"wall_time", "step", "file_version"} or, per summary value,
{"tag", "simple_value"} / {"tag", "histo": {min, max, num, sum, sum_squares, bucket_limit, bucket}}.
Exits 1 naming the record and the problem on a bad CRC or a truncated file."""
import json, struct, sys

def crc32c(data):
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF

def masked(data):
    c = crc32c(data)
    return (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF

def fields(buf):
    """(field number, wire type, value) of one message; value: int for varint, bytes for fixed and length-delimited."""
    i = 0
    while i < len(buf):
        key, i = varint(buf, i)
        f, w = key >> 3, key & 7
        if w == 0:
            v, i = varint(buf, i)
        elif w == 1:
            v, i = buf[i:i + 8], i + 8
        elif w == 5:
            v, i = buf[i:i + 4], i + 4
        elif w == 2:
            n, i = varint(buf, i)
            v, i = buf[i:i + n], i + n
        else:
            raise ValueError("wire type %d" % w)
        yield f, w, v

def varint(buf, i):
    shift = result = 0
    while True:
        b = buf[i]; i += 1
        result |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return result, i

def f64(b): return struct.unpack("<d", b)[0]

def histo(buf):
    h = {"bucket_limit": [], "bucket": []}
    names = {1: "min", 2: "max", 3: "num", 4: "sum", 5: "sum_squares"}
    for f, w, v in fields(buf):
        if f in names:
            h[names[f]] = f64(v)
        elif f in (6, 7):
            key = "bucket_limit" if f == 6 else "bucket"
            h[key] += list(struct.unpack("<%dd" % (len(v) // 8), v)) if w == 2 else [f64(v)]
    return h

def main(path):
    data = open(path, "rb").read()
    i = record = 0
    while i < len(data):
        if i + 12 > len(data):
            sys.exit("record %d: truncated header" % record)
        header = data[i:i + 8]
        (length,) = struct.unpack("<Q", header)
        (crc,) = struct.unpack("<I", data[i + 8:i + 12])
        if crc != masked(header):
            sys.exit("record %d: length CRC mismatch" % record)
        body = data[i + 12:i + 12 + length]
        (dcrc,) = struct.unpack("<I", data[i + 12 + length:i + 16 + length])
        if len(body) != length or dcrc != masked(body):
            sys.exit("record %d: data CRC mismatch" % record)
        i += 16 + length
        event = {}
        values = []
        for f, w, v in fields(body):
            if f == 1: event["wall_time"] = f64(v)
            elif f == 2: event["step"] = v
            elif f == 3: event["file_version"] = v.decode()
            elif f == 5:
                for sf, sw, sv in fields(v):
                    if sf != 1: continue
                    val = {}
                    for vf, vw, vv in fields(sv):
                        if vf == 1: val["tag"] = vv.decode()
                        elif vf == 2: val["simple_value"] = struct.unpack("<f", vv)[0]
                        elif vf == 5: val["histo"] = histo(vv)
                    values.append(val)
        if values:
            event["values"] = values
        print(json.dumps(event))
        record += 1

main(sys.argv[1])
