import { useState, type FormEvent } from 'react';
import type { ApiClient, TokenPair } from './api';
import { ErrorMessage } from './ui';

interface Props {
  api: ApiClient;
  mode: 'login' | 'register';
  notice?: string | null;
  onSignedIn: (pair: TokenPair, email: string) => void;
}

export function AuthScreen({ api, mode, notice, onSignedIn }: Props) {
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const registering = mode === 'register';

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      if (registering) await api.post('/auth/register', { name, email, password }, { auth: false });
      const pair = await api.post<TokenPair>('/auth/login', { email, password }, { auth: false });
      onSignedIn(pair, email);
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="centered auth">
      <h1>TaskApp</h1>
      <form onSubmit={submit} className="card auth-form" aria-labelledby="auth-title">
        <h2 id="auth-title">{registering ? 'Create your account' : 'Log in'}</h2>
        {notice ? (
          <p className="notice" role="status">
            {notice}
          </p>
        ) : null}
        {registering ? (
          <label>
            Name
            <input value={name} onChange={(e) => setName(e.target.value)} required maxLength={100} autoComplete="name" />
          </label>
        ) : null}
        <label>
          Email
          <input type="email" value={email} onChange={(e) => setEmail(e.target.value)} required autoComplete="email" />
        </label>
        <label>
          Password
          <input
            type="password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            required
            minLength={registering ? 8 : undefined}
            autoComplete={registering ? 'new-password' : 'current-password'}
          />
        </label>
        <ErrorMessage error={error} />
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Please wait…' : registering ? 'Create account' : 'Log in'}
        </button>
        <p>
          {registering ? (
            <>
              Have an account? <a href="#/login">Log in</a>
            </>
          ) : (
            <>
              New here? <a href="#/register">Create an account</a>
            </>
          )}
        </p>
      </form>
    </main>
  );
}
