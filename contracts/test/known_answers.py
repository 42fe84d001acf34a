#!/usr/bin/env python3
"""Known answers pinned in the forge tests, derived independently of the Solidity code.

Run: python3 contracts/test/known_answers.py (needs pycryptodome for Keccak-256).

1. GF(p^5) = GF(p)[z]/(z^5 - 3) in plain big-integer arithmetic, mirroring
   core/src/ecgfp5/gfp5.rs, and the public-key validity rule of core/src/ecgfp5/curve.rs
   (`Point::decode` / `line_roots`) with `PublicKey::from_bytes` (core/src/schnorr.rs):
   canonical words, w != 0, delta = (w^2 - 2)^2 - 4 * 263 z a square. The square test
   here is Euler's criterion delta^((p^5 - 1)/2) in {0, 1} by plain square-and-multiply,
   not the norm/Frobenius shortcut the contract uses.
2. The deposit queue chain q_{n+1} = keccak256(q_n || token || key || amount BE).
3. A small compact batch (v4), its expansion to 1056-byte chunks, the data chain and the
   statement keccak256(oldRoot || newRoot || d || ethFees BE || tokenFees BE).
"""
import random
from Crypto.Hash import keccak

P = 2**64 - 2**32 + 1


def k256(b):
    h = keccak.new(digest_bits=256)
    h.update(b)
    return h.digest()


def mul(a, b):
    w = [0] * 9
    for i in range(5):
        for j in range(5):
            w[i + j] += a[i] * b[j]
    return [(w[i] + (3 * w[i + 5] if i + 5 < 9 else 0)) % P for i in range(5)]


def power(a, e):
    r = [1, 0, 0, 0, 0]
    while e:
        if e & 1:
            r = mul(r, a)
        a = mul(a, a)
        e >>= 1
    return r


def sub(a, b):
    return [(x - y) % P for x, y in zip(a, b)]


def is_square(d):
    return power(d, (P**5 - 1) // 2) in ([0] * 5, [1, 0, 0, 0, 0])


def delta_of(w):
    e = sub(mul(w, w), [2, 0, 0, 0, 0])
    return sub(mul(e, e), [0, 4 * 263, 0, 0, 0])


def valid_key(key: bytes):
    if len(key) != 40:
        return False
    w = [int.from_bytes(key[8 * i:8 * i + 8], 'little') for i in range(5)]
    return all(x < P for x in w) and any(w) and is_square(delta_of(w))


def key_of(w):
    return b''.join(x.to_bytes(8, 'little') for x in w)


# Frobenius constants: (z^i)^p = 3^(i (p-1)/5) z^i, checked against a^p.
FROB = [pow(3, i * (P - 1) // 5, P) for i in range(5)]
_a = [random.Random(1).randrange(P) for _ in range(5)]
assert power(_a, P) == [_a[i] * FROB[i] % P for i in range(5)]
assert power(_a, P * P) == [_a[i] * FROB[2 * i % 5] % P for i in range(5)]

# Pornin's reference points (core/src/ecgfp5/curve.rs tests): valid encodings.
W1 = [12539254003028696409, 15524144070600887654, 15092036948424041984, 11398871370327264211, 10958391180505708567]
W2 = [11001943240060308920, 17075173755187928434, 3940989555384655766, 15017795574860011099, 5548543797011402287]
G = [4, 0, 0, 0, 0]
W3 = [246872606398642312, 4900963247917836450, 7327006728177203977, 13945036888436667069, 3062018119121328861]
W4 = [8058035104653144162, 16041715455419993830, 7448530016070824199, 11253639182222911208, 6228757819849640866]
W5 = [10523134687509281194, 11148711503117769087, 9056499921957594891, 13016664454465495026, 16494247923890248266]
W6 = [12173306542237620, 6587231965341539782, 17027985748515888117, 17194831817613584995, 10056734072351459010]
W7 = [9420857400785992333, 4695934009314206363, 14471922162341187302, 13395190104221781928, 16359223219913018041]
# The scalar-multiplication test's two points.
S1 = [7534507442095725921, 16658460051907528927, 12417574136563175256, 2750788641759288856, 620002843272906439]
S2 = [9486104512504676657, 14312981644741144668, 5159846406177847664, 15978863787033795628, 3249948839313771192]
# That test's encodings that must not decode.
BAD = [13557832913345268708, 15669280705791538619, 8534654657267986396, 12533218303838131749, 5058070698878426028]
INVALID = [
    BAD,
    [135036726621282077, 17283229938160287622, 13113167081889323961, 1653240450380825271, 520025869628727862],
    [6727960962624180771, 17240764188796091916, 3954717247028503753, 1002781561619501488, 4295357288570643789],
    [4578929270179684956, 3866930513245945042, 7662265318638150701, 9503686272550423634, 12241691520798116285],
    [16890297404904119082, 6169724643582733633, 9725973298012340311, 5977049210035183790, 11379332130141664883],
    [13777379982711219130, 14715168412651470168, 17942199593791635585, 6188824164976547520, 15461469634034461986],
]


def main():
    print('FROB', FROB)
    # Key vectors (EcGfp5Key.t.sol): the Rust tests' points must be valid and their
    # invalid encodings invalid; small w and random words are labelled by the slow test.
    for name, w in [('G', G), ('W1', W1), ('W2', W2), ('W3', W3), ('W4', W4), ('W5', W5),
                    ('W6', W6), ('W7', W7), ('S1', S1), ('S2', S2)]:
        assert valid_key(key_of(w)), name
        print('valid', name, key_of(w).hex())
    for w in INVALID:
        assert not valid_key(key_of(w))
        print('invalid (curve.rs)', key_of(w).hex())
    for x in range(1, 9):
        print('w = %d' % x, valid_key(key_of([x, 0, 0, 0, 0])))
    print('all words p - 1', valid_key(key_of([P - 1] * 5)))
    rng = random.Random(20240515)
    print('random keys (hex, valid):')
    for _ in range(12):
        w = [rng.randrange(P) for _ in range(5)]
        print(' ', key_of(w).hex(), valid_key(key_of(w)))

    # Deposit queue: ETH 1.5 gwei... (L2 units) to W1, token 7 units to W2, ETH 3 to G.
    deposits = [(0, key_of(W1), 1_500_000_000), (1, key_of(W2), 7), (0, key_of(G), 3)]
    q = bytes(32)
    for token, key, amount in deposits:
        q = k256(q + bytes([token]) + key + amount.to_bytes(8, 'big'))
        print('queue head', q.hex())

    # A small compact batch: chunk 0 holds one transfer, one new account, the three
    # deposits above at offsets 2, 0 (chunk 0) and 1 (chunk 1: not queue order), and one
    # ETH withdrawal; chunk 1 one deposit and two withdrawals (token, ETH).
    def unit(tag, frm, to, amount5, fee2):
        return bytes([tag]) + frm.to_bytes(4, 'big') + to.to_bytes(4, 'big') + amount5 + fee2

    def account(index, key):
        return bytes([1]) + index.to_bytes(4, 'big') + bytes(3) + key

    def deposit(offset, index, token, amount, key):
        return bytes([1 | token << 1, 0]) + offset.to_bytes(2, 'big') + index.to_bytes(4, 'big') + amount.to_bytes(8, 'big') + key

    def withdrawal(token, amount, recipient):
        return bytes([1 | token << 1]) + bytes(3) + amount.to_bytes(8, 'big') + recipient

    r1 = bytes.fromhex('00112233445566778899aabbccddeeff00112233')
    r2 = bytes.fromhex('1111111111111111111111111111111111111111')
    chunks = [
        ([unit(1, 1, 2, bytes.fromhex('000000007d'), bytes.fromhex('0140')),
          unit(5, 1, 0, bytes.fromhex('0000000140'), bytes.fromhex('0020'))],
         [account(3, key_of(G))],
         [deposit(2, 3, 0, 3, key_of(G)), deposit(0, 1, 0, 1_500_000_000, key_of(W1))],
         [withdrawal(0, 10, r1)]),
        ([], [], [deposit(1, 2, 1, 7, key_of(W2))], [withdrawal(1, 5, r2), withdrawal(0, 1, r2)]),
    ]
    sizes = [(16, 32), (48, 4), (56, 4), (32, 4)]
    compact = bytes([4])
    link = bytes(32)
    for lists in chunks:
        t, a, d, w = (len(x) for x in lists)
        compact += bytes([t + 33 * a, d + 5 * w])
        expanded = b''
        for records, (size, cap) in zip(lists, sizes):
            body = b''.join(records)
            compact += body
            expanded += body + bytes(size * cap - len(body))
        assert len(expanded) == 1056
        link = k256(link + expanded)
    print('compact batch', compact.hex())
    print('data commitment', link.hex())
    old_root = bytes.fromhex('0000000000000001000000000000000200000000000000030000000000000004')
    new_root = bytes.fromhex('ffffffff00000000000000000000000000000000000000000000000000000007')
    statement = k256(old_root + new_root + link + (10).to_bytes(8, 'big') + (2).to_bytes(8, 'big'))
    print('statement (fees 10, 2)', statement.hex())
    print('one empty chunk', k256(bytes(32) + bytes(1056)).hex())


if __name__ == '__main__':
    main()
