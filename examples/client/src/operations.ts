import { graphql } from './gql';

export const LoginDocument = graphql(`
  mutation Login($email: String!, $password: String!) {
    login(email: $email, password: $password) {
      accessToken
      expiresIn
      user {
        id
        email
        role
      }
    }
  }
`);

export const StartSessionDocument = graphql(`
  mutation StartSession($deviceId: String) {
    startLocationSession(input: { deviceId: $deviceId }) {
      id
      status
      startedAt
    }
  }
`);

export const RecordLocationDocument = graphql(`
  mutation RecordLocation($sessionId: ID!, $location: LocationInput!) {
    recordLocation(sessionId: $sessionId, location: $location) {
      id
      latitude
      longitude
      recordedAt
    }
  }
`);

export const StopSessionDocument = graphql(`
  mutation StopSession($id: ID!) {
    stopLocationSession(id: $id) {
      id
      status
      pointCount
      endedAt
    }
  }
`);

export const LocationUpdatedDocument = graphql(`
  subscription LocationUpdated($sessionId: ID) {
    locationUpdated(sessionId: $sessionId) {
      session {
        id
        pointCount
      }
      point {
        latitude
        longitude
        recordedAt
      }
    }
  }
`);
