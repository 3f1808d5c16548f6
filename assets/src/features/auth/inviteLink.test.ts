import { describe, expect, it } from 'vitest';
import { inviteCodeFromPath } from './inviteLink';

describe('invite links', () => {
  it('reads the code of /invite/CODE', () => {
    expect(inviteCodeFromPath('/invite/AbC-12_x')).toBe('AbC-12_x');
    expect(inviteCodeFromPath('/invite/AbC-12_x/')).toBe('AbC-12_x');
  });

  it('ignores anything else', () => {
    expect(inviteCodeFromPath('/')).toBeNull();
    expect(inviteCodeFromPath('/invite/')).toBeNull();
    expect(inviteCodeFromPath('/invite/a/b')).toBeNull();
    expect(inviteCodeFromPath('/invite/<script>')).toBeNull();
    expect(inviteCodeFromPath(`/invite/${'a'.repeat(65)}`)).toBeNull();
  });
});
