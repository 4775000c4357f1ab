#!/usr/bin/env python3
"""Run the feed-parsing conformance comparison and fail on regressions.

usage: conformance.py FEEDWATCH CORPUS_DIR EXCEPTIONS --min-files F --min-field F

Runs CORPUS_DIR/../compare.py with `FEEDWATCH parse --json {headers} {}`,
leaves out the files listed in EXCEPTIONS (feedwatch right, oracle wrong),
and fails when the share of passing files or of any field drops below the
thresholds. Exits 77 (skipped) when the corpus is not there.
"""
import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile

SKIP = 77


def load_exceptions(path):
    out = {}
    with open(path, encoding='utf-8') as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith('#'):
                continue
            parts = line.split(None, 1)
            if len(parts) < 2:
                sys.exit('%s: %r has no reason' % (path, line))
            out[parts[0]] = parts[1]
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('feedwatch')
    ap.add_argument('corpus')
    ap.add_argument('exceptions')
    ap.add_argument('--min-files', type=float, required=True)
    ap.add_argument('--min-field', type=float, required=True)
    args = ap.parse_args()

    compare = os.path.join(os.path.dirname(os.path.abspath(args.corpus)),
                           'compare.py')
    if not os.path.isdir(args.corpus) or not os.path.exists(compare):
        print('conformance corpus not found at %s: skipped' % args.corpus)
        return SKIP
    exceptions = load_exceptions(args.exceptions)
    with tempfile.TemporaryDirectory() as tmp:
        report = os.path.join(tmp, 'report.json')
        cmd = [sys.executable, compare, '--cmd',
               shlex.quote(args.feedwatch) + ' parse --json {headers} {}',
               '--report-only', '--show', '0', '-j', '2',
               '--json-report', report, args.corpus]
        run = subprocess.run(cmd, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
        if run.returncode != 0 or not os.path.exists(report):
            print(run.stdout)
            print('compare.py failed (exit %d)' % run.returncode)
            return 1
        with open(report, encoding='utf-8') as f:
            results = json.load(f)['results']

    counted = [r for r in results
               if r['status'] in ('pass', 'fail') and r['file'] not in exceptions]
    fixed = [r['file'] for r in results
             if r['file'] in exceptions and r['status'] == 'pass']
    passed = [r for r in counted if r['status'] == 'pass']
    failed = [r for r in counted if r['status'] != 'pass']
    if not counted:
        print('no files compared')
        return 1
    rate = len(passed) / len(counted)
    ok = True
    print('files: %d of %d pass (%.2f%%, minimum %.2f%%), %d exceptions'
          % (len(passed), len(counted), 100 * rate, 100 * args.min_files,
             len(exceptions)))
    if rate < args.min_files:
        ok = False
    fields = sorted(counted[0]['fields'])
    for field in fields:
        good = sum(1 for r in counted if not r['fields'].get(field))
        frate = good / len(counted)
        flag = '' if frate >= args.min_field else '   BELOW %.2f%%' % (
            100 * args.min_field)
        print('  %-20s %6.2f%%%s' % (field, 100 * frate, flag))
        if frate < args.min_field:
            ok = False
    for r in failed:
        bad = [f for f, errs in r['fields'].items() if errs]
        print('FAIL %s: %s%s' % (r['file'], ', '.join(bad),
                                 (' (%s)' % r['error']) if r.get('error') else ''))
    for f in fixed:
        print('note: %s now passes; drop it from the exceptions' % f)
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
