import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { listAll } from './api';
import { ROLES, type Invitation, type Member, type Project, type ProjectRole } from './types';
import { Empty, ErrorMessage, formatTime, Loading, useSession } from './ui';

export function Projects({ projects, reload }: { projects: Project[] | null; reload: () => Promise<void> }) {
  const { api } = useSession();
  const [selected, setSelected] = useState<string>('');
  const [invitations, setInvitations] = useState<Invitation[] | null>(null);
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState<string | null>(null);

  const loadInvitations = useCallback(async () => {
    try {
      setInvitations(await listAll<Invitation>(api, '/invitations'));
    } catch (caught) {
      setError(caught);
      setInvitations([]);
    }
  }, [api]);

  useEffect(() => {
    void loadInvitations();
  }, [loadInvitations]);

  const create = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    try {
      const project = await api.post<Project>('/projects', { name, description });
      setName('');
      setDescription('');
      setNotice(`Created project “${project.name}”.`);
      await reload();
      setSelected(project.id);
    } catch (caught) {
      setError(caught);
    }
  };

  const answer = async (invitation: Invitation, verb: 'accept' | 'decline') => {
    setError(null);
    try {
      await api.post(`/invitations/${invitation.id}/${verb}`);
      setNotice(verb === 'accept' ? `You joined “${invitation.projectName}”.` : `Declined the invitation to “${invitation.projectName}”.`);
      // Answered: gone at once, not when the list comes back (the project list may come back first, and the
      // invitation's button would still offer an answer the API has already taken).
      setInvitations((current) => current?.filter((pending) => pending.id !== invitation.id) ?? current);
      await Promise.all([loadInvitations(), reload()]);
    } catch (caught) {
      setError(caught);
    }
  };

  const project = projects?.find((p) => p.id === selected) ?? null;

  return (
    <section aria-labelledby="projects-title" className="projects-screen">
      <h1 id="projects-title">Projects</h1>
      <div aria-live="polite" className="live-region">
        {notice ? <p className="notice">{notice}</p> : null}
      </div>
      <ErrorMessage error={error} />
      <div className="split">
        <div>
          <section aria-labelledby="invitations-title" className="card">
            <h2 id="invitations-title">Invitations for you</h2>
            {invitations === null ? (
              <Loading what="invitations" />
            ) : invitations.length === 0 ? (
              <Empty title="No pending invitations" />
            ) : (
              <ul className="plain">
                {invitations.map((inv) => (
                  <li key={inv.id} className="invitation">
                    <span>
                      <strong>{inv.projectName}</strong> as {inv.role} (until {formatTime(inv.expiresAt)})
                    </span>
                    <button type="button" className="primary" onClick={() => void answer(inv, 'accept')}>
                      Accept invitation to {inv.projectName}
                    </button>
                    <button type="button" onClick={() => void answer(inv, 'decline')}>
                      Decline
                    </button>
                  </li>
                ))}
              </ul>
            )}
          </section>
          <section aria-labelledby="your-projects" className="card">
            <h2 id="your-projects">Your projects</h2>
            {projects === null ? (
              <Loading what="projects" />
            ) : projects.length === 0 ? (
              <Empty title="No projects yet">Create one below to share tasks with others.</Empty>
            ) : (
              <ul className="plain project-list">
                {projects.map((p) => (
                  <li key={p.id}>
                    <button type="button" className={p.id === selected ? 'selected' : ''} aria-pressed={p.id === selected} onClick={() => setSelected(p.id)}>
                      {p.name}
                    </button>{' '}
                    <span className="meta">
                      {p.role} · {p.memberCount} member{p.memberCount === 1 ? '' : 's'}
                      {p.archived ? ' · archived' : ''}
                    </span>
                  </li>
                ))}
              </ul>
            )}
            <form onSubmit={create} className="stack">
              <h3>New project</h3>
              <label>
                Project name
                <input value={name} onChange={(e) => setName(e.target.value)} required maxLength={100} />
              </label>
              <label>
                Description
                <input value={description} onChange={(e) => setDescription(e.target.value)} maxLength={2000} />
              </label>
              <button type="submit" className="primary">
                Create project
              </button>
            </form>
          </section>
        </div>
        {project ? <ProjectMembers project={project} onChanged={reload} /> : <Empty title="Choose a project">Its members and invitations appear here.</Empty>}
      </div>
    </section>
  );
}

function ProjectMembers({ project, onChanged }: { project: Project; onChanged: () => Promise<void> }) {
  const { api, userId } = useSession();
  const [members, setMembers] = useState<Member[] | null>(null);
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<ProjectRole>('member');
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const canManage = project.role === 'owner' || project.role === 'admin';

  const load = useCallback(async () => {
    try {
      setMembers(await listAll<Member>(api, `/projects/${project.id}/members`));
    } catch (caught) {
      setError(caught);
      setMembers([]);
    }
  }, [api, project.id]);

  useEffect(() => {
    setMembers(null);
    void load();
  }, [load]);

  const invite = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    try {
      await api.post(`/projects/${project.id}/invitations`, { email, role });
      setNotice(`Invited ${email} as ${role}.`);
      setEmail('');
    } catch (caught) {
      setError(caught);
    }
  };

  const changeRole = async (member: Member, next: ProjectRole) => {
    setError(null);
    try {
      await api.patch(`/projects/${project.id}/members/${member.userId}`, { role: next });
      await load();
    } catch (caught) {
      setError(caught);
    }
  };

  const remove = async (member: Member) => {
    setError(null);
    try {
      await api.delete(`/projects/${project.id}/members/${member.userId}`);
      await Promise.all([load(), onChanged()]);
    } catch (caught) {
      setError(caught);
    }
  };

  return (
    <section aria-labelledby="members-title" className="card">
      <h2 id="members-title">Members of {project.name}</h2>
      {project.description ? <p>{project.description}</p> : null}
      <div aria-live="polite" className="live-region">
        {notice ? <p className="notice">{notice}</p> : null}
      </div>
      <ErrorMessage error={error} />
      {members === null ? (
        <Loading what="members" />
      ) : (
        <table>
          <caption className="visually-hidden">Members and their roles</caption>
          <thead>
            <tr>
              <th scope="col">Member</th>
              <th scope="col">Role</th>
              <th scope="col">Joined</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {members.map((m) => (
              <tr key={m.userId}>
                <td>{m.userId === userId ? `${m.email ?? 'You'} (you)` : (m.email ?? m.userId)}</td>
                <td>
                  {canManage && m.role !== 'owner' ? (
                    <label>
                      <span className="visually-hidden">Role of {m.email ?? m.userId}</span>
                      <select value={m.role} onChange={(e) => void changeRole(m, e.target.value as ProjectRole)}>
                        {ROLES.map((r) => (
                          <option key={r} value={r}>
                            {r}
                          </option>
                        ))}
                      </select>
                    </label>
                  ) : (
                    m.role
                  )}
                </td>
                <td>{formatTime(m.joinedAt)}</td>
                <td>
                  {m.role !== 'owner' && (canManage || m.userId === userId) ? (
                    <button type="button" className="danger" onClick={() => void remove(m)}>
                      {m.userId === userId ? 'Leave project' : `Remove ${m.email ?? 'member'}`}
                    </button>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {canManage ? (
        <form onSubmit={invite} className="stack">
          <h3>Invite someone</h3>
          <label>
            Email to invite
            <input type="email" value={email} onChange={(e) => setEmail(e.target.value)} required />
          </label>
          <label>
            Role
            <select value={role} onChange={(e) => setRole(e.target.value as ProjectRole)}>
              {ROLES.map((r) => (
                <option key={r} value={r}>
                  {r}
                </option>
              ))}
            </select>
          </label>
          <button type="submit" className="primary">
            Send invitation
          </button>
        </form>
      ) : null}
    </section>
  );
}
